// Prompt templates: the list, and the calls that change it (each followed by a reload).
import { deleteTemplate, listTemplates, saveTemplate, setDefaultTemplate } from "../api/templates";
import { useApiQuery, useRefetchingMutation } from "./cache";

export const templateKeys = { list: ["templates"] as const };

export const useTemplates = () => useApiQuery(templateKeys.list, listTemplates);

/** The editor's calls: save a draft, make a template the default, delete one. */
export function useTemplateCalls() {
  const save = useRefetchingMutation(templateKeys.list, saveTemplate);
  const setDefault = useRefetchingMutation(templateKeys.list, setDefaultTemplate);
  const remove = useRefetchingMutation(templateKeys.list, deleteTemplate);
  return { save: save.mutateAsync, setDefault: setDefault.mutateAsync, remove: remove.mutateAsync };
}
