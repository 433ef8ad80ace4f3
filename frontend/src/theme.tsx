import { CssBaseline, GlobalStyles, ThemeProvider, createTheme, useMediaQuery } from "@mui/material";
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";

type Mode = "light" | "dark";
const MODE_KEY = "qc.colorMode";

const ColorModeContext = createContext<{ mode: Mode; toggle: () => void }>({
  mode: "light",
  toggle: () => undefined,
});

export const useColorMode = () => useContext(ColorModeContext);

const highlight = (mode: Mode) => {
  const dark = mode === "dark";
  return {
    ".hljs-keyword, .hljs-selector-tag, .hljs-built_in, .hljs-name": { color: dark ? "#ff7b72" : "#cf222e" },
    ".hljs-string, .hljs-attr, .hljs-regexp": { color: dark ? "#a5d6ff" : "#0a3069" },
    ".hljs-number, .hljs-literal, .hljs-type": { color: dark ? "#79c0ff" : "#0550ae" },
    ".hljs-comment, .hljs-quote": { color: dark ? "#8b949e" : "#6e7781", fontStyle: "italic" },
    ".hljs-title, .hljs-function .hljs-title, .hljs-title.function_": { color: dark ? "#d2a8ff" : "#8250df" },
    ".hljs-variable, .hljs-params": { color: dark ? "#ffa657" : "#953800" },
  };
};

export function AppThemeProvider({ children }: { children: ReactNode }) {
  const prefersDark = useMediaQuery("(prefers-color-scheme: dark)");
  const [chosen, setChosen] = useState<Mode | null>(() => localStorage.getItem(MODE_KEY) as Mode | null);
  const mode: Mode = chosen ?? (prefersDark ? "dark" : "light");
  const theme = useMemo(
    () =>
      createTheme({
        palette: {
          mode,
          primary: { main: mode === "dark" ? "#8ab4f8" : "#1a5fd0" },
          background: mode === "dark" ? { default: "#121417", paper: "#1b1e23" } : { default: "#f6f7f9", paper: "#ffffff" },
        },
        shape: { borderRadius: 10 },
        typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif' },
      }),
    [mode],
  );
  const value = useMemo(
    () => ({
      mode,
      toggle: () => {
        const next: Mode = mode === "dark" ? "light" : "dark";
        localStorage.setItem(MODE_KEY, next);
        setChosen(next);
      },
    }),
    [mode],
  );
  return (
    <ColorModeContext.Provider value={value}>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        <GlobalStyles styles={{ "html, body, #root": { height: "100%" }, ...highlight(mode) }} />
        {children}
      </ThemeProvider>
    </ColorModeContext.Provider>
  );
}
