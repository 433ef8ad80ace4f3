import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { MessageOut } from "../../api/types";
import { QuestionEditor, VersionSwitch, versionPlace } from "./MessageVersions";

const message = (id: number, versions: number[]) => ({ id, versions }) as unknown as MessageOut;

describe("versionPlace", () => {
  it("places a message among its versions", () => {
    expect(versionPlace(message(7, [3, 7, 9]))).toEqual({ place: 2, count: 3, previous: 3, next: 9 });
    expect(versionPlace(message(3, [3, 7]))).toEqual({ place: 1, count: 2, previous: null, next: 7 });
    expect(versionPlace(message(5, []))).toEqual({ place: 0, count: 0, previous: null, next: null });
  });
});

describe("VersionSwitch", () => {
  it("shows the place and asks for the neighbouring versions", async () => {
    const onShow = vi.fn();
    render(<VersionSwitch message={message(7, [3, 7, 9])} onShow={onShow} what="reply" />);
    expect(screen.getByTestId("versions")).toHaveTextContent("2/3");
    await userEvent.click(screen.getByRole("button", { name: "Previous version of this reply" }));
    await userEvent.click(screen.getByRole("button", { name: "Next version of this reply" }));
    expect(onShow.mock.calls).toEqual([[3], [9]]);
  });

  it("is absent for a single version and disabled while a reply runs", () => {
    const { rerender } = render(<VersionSwitch message={message(7, [7])} onShow={vi.fn()} what="question" />);
    expect(screen.queryByTestId("versions")).toBeNull();
    rerender(<VersionSwitch message={message(7, [3, 7])} onShow={vi.fn()} what="question" disabled />);
    expect(screen.getByRole("button", { name: "Previous version of this question" })).toBeDisabled();
  });
});

describe("QuestionEditor", () => {
  it("sends the edited text on Enter and closes once accepted", async () => {
    const onSubmit = vi.fn(async () => true);
    const onCancel = vi.fn();
    render(<QuestionEditor initial="Name a colour." onSubmit={onSubmit} onCancel={onCancel} />);
    const box = screen.getByLabelText("Edited question");
    await userEvent.clear(box);
    await userEvent.type(box, "Name a fruit.{Enter}");
    expect(onSubmit).toHaveBeenCalledWith("Name a fruit.");
    expect(onCancel).toHaveBeenCalled();
  });

  it("refuses empty or too long text with a message, and stays open when refused", async () => {
    const onSubmit = vi.fn(async () => false);
    const onCancel = vi.fn();
    render(<QuestionEditor initial="Hi" maxChars={5} onSubmit={onSubmit} onCancel={onCancel} />);
    const box = screen.getByLabelText("Edited question");
    await userEvent.clear(box);
    expect(screen.getByText("The question cannot be empty.")).toBeInTheDocument();
    await userEvent.type(box, "too long{Enter}");
    expect(screen.getByText("At most 5 characters (8 now).")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
    await userEvent.clear(box);
    await userEvent.type(box, "ok{Enter}");
    expect(onSubmit).toHaveBeenCalledWith("ok");
    expect(onCancel).not.toHaveBeenCalled();
    await userEvent.type(box, "{Escape}");
    expect(onCancel).toHaveBeenCalled();
  });
});
