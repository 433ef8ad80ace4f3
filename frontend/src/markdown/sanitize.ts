// Model output is untrusted: raw HTML is shown as text, and only safe link targets survive.
import type { Root } from "mdast";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL when it is relative or http(s)/mailto; "" (inert) for javascript:, data:, etc. */
export function safeUrl(url: string): string {
  // browsers ignore control characters and whitespace inside a scheme ("java\tscript:")
  const compact = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(compact);
  if (!scheme) return compact.startsWith("//") ? "" : url;
  return SAFE_PROTOCOLS.has(scheme[1].toLowerCase() + ":") ? url : "";
}

interface AnyNode {
  type: string;
  value?: string;
  children?: AnyNode[];
}

/** A remark plugin that turns raw HTML nodes into plain text, so `<img onerror>` is just text. */
export function remarkHtmlAsText() {
  return (tree: Root) => {
    const visit = (node: AnyNode) => {
      if (node.type === "html") node.type = "text";
      node.children?.forEach(visit);
    };
    visit(tree as unknown as AnyNode);
  };
}
