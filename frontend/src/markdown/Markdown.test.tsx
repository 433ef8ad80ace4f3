import { render, screen } from "@testing-library/react";
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

  it("highlights code blocks and offers a copy button", () => {
    const { container } = render(<Markdown text={"```python\ndef f():\n    return 1\n```"} />);
    expect(container.querySelector("pre code .hljs-keyword")?.textContent).toBe("def");
    expect(screen.getByRole("button", { name: "Copy code" })).toBeInTheDocument();
  });

  it("renders GitHub tables and emphasis", () => {
    const { container } = render(<Markdown text={"**b** _i_\n\n| a | b |\n| - | - |\n| 1 | 2 |"} />);
    expect(container.querySelector("strong")?.textContent).toBe("b");
    expect(container.querySelectorAll("td")).toHaveLength(2);
  });
});
