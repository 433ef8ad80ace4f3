import { draftProblems } from "./TemplatesPanel";

describe("a template draft", () => {
  it("needs a name and a system prompt, named per field", () => {
    const draft = { id: null, name: " ", system_prompt: "\n", active: true, examples: [] };
    expect(draftProblems(draft)).toEqual({ name: "Give the template a name", system_prompt: "A template needs a system prompt" });
    expect(draftProblems({ ...draft, name: "Support", system_prompt: "Be brief." })).toEqual({});
  });
});
