import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { SessionOut } from "../../api/types";
import { Sidebar } from "./Sidebar";

const session = (id: number, title: string): SessionOut => ({
  id,
  title,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
}) as SessionOut;

describe("Sidebar", () => {
  const sessions = [session(1, "Trip to Rome"), session(2, "Python help"), session(3, "Rome restaurants")];

  it("filters chats by title", async () => {
    render(<Sidebar sessions={sessions} activeId={1} onSelect={vi.fn()} onNew={vi.fn()} onRename={vi.fn()} onDelete={vi.fn()} />);
    await userEvent.type(screen.getByLabelText("Search chats"), "rome");
    const nav = screen.getByRole("navigation", { name: "Chats" });
    expect(within(nav).getByText("Trip to Rome")).toBeInTheDocument();
    expect(within(nav).getByText("Rome restaurants")).toBeInTheDocument();
    expect(within(nav).queryByText("Python help")).toBeNull();
    await userEvent.type(screen.getByLabelText("Search chats"), "zzz");
    expect(screen.getByText("No chat matches.")).toBeInTheDocument();
  });

  it("renames, shows a refusal readably, and deletes after confirming", async () => {
    const onRename = vi
      .fn()
      .mockRejectedValueOnce(new Error("the request body is invalid (title: too short)"))
      .mockResolvedValueOnce(undefined);
    const onDelete = vi.fn(async () => undefined);
    render(<Sidebar sessions={sessions} activeId={null} onSelect={vi.fn()} onNew={vi.fn()} onRename={onRename} onDelete={onDelete} />);
    await userEvent.click(screen.getByLabelText("Options for Python help"));
    await userEvent.click(screen.getByRole("menuitem", { name: "Rename" }));
    const title = screen.getByLabelText("Title");
    await userEvent.clear(title);
    await userEvent.type(title, "Py{Enter}");
    expect(await screen.findByText("the request body is invalid (title: too short)")).toBeInTheDocument();
    await userEvent.type(title, "thon tips");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onRename).toHaveBeenLastCalledWith(2, "Python tips");

    await userEvent.click(screen.getByLabelText("Options for Trip to Rome"));
    await userEvent.click(screen.getByRole("menuitem", { name: "Delete" }));
    await userEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onDelete).toHaveBeenCalledWith(1);
  });
});
