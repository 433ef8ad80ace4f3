import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Markdown } from "./Markdown";
import { safeUrl } from "./sanitize";

describe("safeUrl", () => {
  it.each([
    ["https://example.org/a?b=c", "https://example.org/a?b=c"],
    ["http://example.org", "http://example.org"],
    ["mailto:a@b.c", "mailto:a@b.c"],
    ["/relative/path", "/relative/path"],
    ["#anchor", "#anchor"],
    ["javascript:alert(1)", ""],
    ["JaVaScRiPt:alert(1)", ""],
    [" javascript:alert(1)", ""],
    ["java\tscript:alert(1)", ""],
    ["data:text/html,<script>alert(1)</script>", ""],
    ["vbscript:msgbox", ""],
    ["//evil.example/x", ""],
  ])("%s -> %s", (input, output) => {
    expect(safeUrl(input)).toBe(output);
  });
});

describe("Markdown", () => {
  it("shows raw HTML as inert text", () => {
    const { container } = render(<Markdown text={'Hi <img src=x onerror="alert(1)"> <b>bold?</b>\n\n<script>alert(2)</script>'} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(container.textContent).toContain("<script>alert(2)</script>");
  });

  it("keeps the text of unsafe links but drops their target", () => {
    render(<Markdown text={"[x](javascript:alert(1)) [y](data:text/html,hi) [z](https://ok.example/)"} />);
    expect(screen.getByText("x").closest("a")).toBeNull();
    expect(screen.getByText("y").closest("a")).toBeNull();
    const safe = screen.getByText("z").closest("a")!;
    expect(safe.getAttribute("href")).toBe("https://ok.example/");
    expect(safe.getAttribute("rel")).toContain("noopener");
  });

  it("renders images as their alt text only", () => {
    const { container } = render(<Markdown text={"![tracker](https://evil.example/pixel.png)"} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain("[image: tracker]");
  });

  it("highlights code blocks and offers a copy button", async () => {
    const { container } = render(<Markdown text={"```python\ndef f():\n    return 1\n```"} />);
    await waitFor(() => expect(container.querySelector("pre code .hljs-keyword")?.textContent).toBe("def"));
    expect(screen.getByRole("button", { name: "Copy code" })).toBeInTheDocument();
  });

  it("renders GitHub tables and emphasis", () => {
    const { container } = render(<Markdown text={"**b** _i_\n\n| a | b |\n| - | - |\n| 1 | 2 |"} />);
    expect(container.querySelector("strong")?.textContent).toBe("b");
    expect(container.querySelectorAll("td")).toHaveLength(2);
  });
});

describe("source markers", () => {
  it("turns [n] of a cited source into a marker that opens it, and nothing else", async () => {
    const onCite = vi.fn();
    const { container } = render(
      <Markdown text={"The allowance is 45 euros [1]. See [3], `[1]` and [2].\n\n```\nx[2]\n```"} sources={2} onCite={onCite} />,
    );
    const markers = screen.getAllByRole("link", { name: /Source \d/ });
    expect(markers.map((m) => m.textContent)).toEqual(["[1]", "[2]"]);
    expect(container.textContent).toContain("See [3]");
    expect(container.querySelector("code")?.textContent).toBe("[1]");
    expect(container.querySelector("pre")?.textContent).toContain("x[2]");
    await userEvent.click(markers[1]);
    expect(onCite).toHaveBeenCalledWith(2, markers[1]);
  });

  it("leaves [n] as text when the reply cites nothing", () => {
    render(<Markdown text="An array a[1] and a note [1]." />);
    expect(screen.queryByRole("link")).toBeNull();
  });
});
