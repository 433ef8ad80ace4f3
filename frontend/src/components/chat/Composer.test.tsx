import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Composer } from "./Composer";

/** A composer whose sends succeed (or fail), and its text box. */
function renderComposer(sendSucceeds: boolean) {
  const onSend = vi.fn(async () => sendSucceeds);
  render(<Composer busy={false} onSend={onSend} onStop={vi.fn()} />);
  return { onSend, box: screen.getByLabelText("Message") };
}

describe("Composer", () => {
  it("sends on Enter, adds a line on Shift+Enter, and clears after sending", async () => {
    const { onSend, box } = renderComposer(true);
    await userEvent.type(box, "first line{Shift>}{Enter}{/Shift}second line");
    expect(onSend).not.toHaveBeenCalled();
    expect(box).toHaveValue("first line\nsecond line");
    await userEvent.type(box, "{Enter}");
    expect(onSend).toHaveBeenCalledWith("first line\nsecond line");
    expect(box).toHaveValue("");
  });

  it("keeps the text when sending failed, and never sends blank text", async () => {
    const { onSend, box } = renderComposer(false);
    await userEvent.type(box, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    await userEvent.type(box, "hello{Enter}");
    expect(box).toHaveValue("   hello");
  });

  it("shows Stop while a reply runs", async () => {
    const onStop = vi.fn();
    render(<Composer busy onSend={vi.fn(async () => true)} onStop={onStop} />);
    expect(screen.queryByRole("button", { name: "Send" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(onStop).toHaveBeenCalled();
  });
});

describe("Composer's counter", () => {
  it("counts from 80% of the limit and refuses to send past it", async () => {
    const onSend = vi.fn(async () => true);
    render(<Composer busy={false} onSend={onSend} onStop={vi.fn()} maxChars={10} />);
    const box = screen.getByLabelText("Message");
    await userEvent.type(box, "1234567");
    expect(screen.queryByTestId("char-counter")).toBeNull();
    await userEvent.type(box, "8");
    expect(screen.getByTestId("char-counter")).toHaveTextContent("8 / 10");
    await userEvent.type(box, "901{Enter}");
    expect(screen.getByTestId("char-counter")).toHaveTextContent("11 / 10 — 1 character too many");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    await userEvent.type(box, "{Backspace}{Enter}");
    expect(onSend).toHaveBeenCalledWith("1234567890");
  });
});
