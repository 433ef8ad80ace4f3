import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { SearchHit, SessionOut } from "../../api/types";
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

  it("searches the messages once typing pauses and opens a hit, its words marked", async () => {
    const hit: SearchHit = {
      message_id: 42, session_id: 2, session_title: "Python help", role: "assistant",
      snippet: "…use <b>asyncio</b> for waiting", highlights: [{ start: 8, end: 15 }],
      created_at: "2026-01-01T00:00:00Z",
    };
    const onSearchMessages = vi.fn(async () => [hit]);
    const onOpenMessage = vi.fn();
    render(
      <Sidebar sessions={sessions} activeId={null} onSelect={vi.fn()} onNew={vi.fn()} onRename={vi.fn()}
        onDelete={vi.fn()} onSearchMessages={onSearchMessages} onOpenMessage={onOpenMessage} />,
    );
    await userEvent.type(screen.getByLabelText("Search chats"), "async");
    const found = await screen.findByTestId("message-hit");
    expect(onSearchMessages).toHaveBeenCalledTimes(1); // once, after the pause, not per key
    expect(onSearchMessages).toHaveBeenCalledWith("async");
    expect(found.querySelector("mark")?.textContent).toBe("asyncio");
    expect(found).toHaveTextContent("…use <b>asyncio</b> for waiting"); // markup stays text
    expect(found).toHaveTextContent("Reply in Python help");
    await userEvent.click(found);
    expect(onOpenMessage).toHaveBeenCalledWith(hit);
  });

  it("says when no message holds the words, and does not search one letter", async () => {
    const onSearchMessages = vi.fn(async () => []);
    render(
      <Sidebar sessions={sessions} activeId={null} onSelect={vi.fn()} onNew={vi.fn()} onRename={vi.fn()}
        onDelete={vi.fn()} onSearchMessages={onSearchMessages} />,
    );
    await userEvent.type(screen.getByLabelText("Search chats"), "q");
    await new Promise((r) => setTimeout(r, 400));
    expect(onSearchMessages).not.toHaveBeenCalled();
    await userEvent.type(screen.getByLabelText("Search chats"), "zx");
    expect(await screen.findByText("No message holds these words.")).toBeInTheDocument();
  });

  it("groups chats under Pinned and their day, and pins from the menu", async () => {
    const today = new Date().toISOString();
    const pinned = { ...session(4, "Handbook"), updated_at: today, pinned_at: today } as SessionOut;
    const onPin = vi.fn(async () => undefined);
    render(
      <Sidebar sessions={[{ ...session(5, "Fresh"), updated_at: today } as SessionOut, pinned, ...sessions]}
        activeId={null} onSelect={vi.fn()} onNew={vi.fn()} onRename={vi.fn()} onDelete={vi.fn()} onPin={onPin} />,
    );
    const headers = screen.getAllByRole("listitem").filter((li) => li.classList.contains("MuiListSubheader-root"));
    expect(headers.map((h) => h.textContent)).toEqual(["Pinned", "Today", "January 2026"]);
    await userEvent.click(screen.getByLabelText("Options for Handbook"));
    await userEvent.click(screen.getByRole("menuitem", { name: "Unpin" }));
    expect(onPin).toHaveBeenCalledWith(pinned, false);
    await userEvent.click(screen.getByLabelText("Options for Fresh"));
    await userEvent.click(screen.getByRole("menuitem", { name: "Pin" }));
    expect(onPin).toHaveBeenLastCalledWith(expect.objectContaining({ id: 5 }), true);
  });
});
