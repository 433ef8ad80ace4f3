import { createContext, useContext, type Context } from "react";

/** A context that needs its provider above it, and the hook that reads it (and says so when it is missing). */
export function requiredContext<T>(hook: string, provider: string): [Context<T | null>, () => T] {
  const context = createContext<T | null>(null);
  const useRequired = (): T => {
    const found = useContext(context);
    if (!found) throw new Error(`${hook} outside ${provider}`);
    return found;
  };
  return [context, useRequired];
}
