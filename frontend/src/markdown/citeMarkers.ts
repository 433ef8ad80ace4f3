// "[2]" in a reply that cites sources: a marker that opens source 2. Only numbers of sources the
// reply has become markers; text in code and inside links stays as it is.
import type { Root } from "mdast";

interface AnyNode {
  type: string;
  value?: string;
  url?: string;
  children?: AnyNode[];
  data?: Record<string, unknown>;
}

const MARKER = /\[(\d{1,2})\]/g;

function split(value: string, sources: number): AnyNode[] | null {
  const out: AnyNode[] = [];
  let last = 0;
  for (const match of value.matchAll(MARKER)) {
    const n = Number(match[1]);
    if (n < 1 || n > sources) continue;
    const at = match.index ?? 0;
    if (at > last) out.push({ type: "text", value: value.slice(last, at) });
    out.push({
      type: "link",
      url: `#source-${n}`,
      children: [{ type: "text", value: `[${n}]` }],
      data: { hProperties: { className: ["cite-marker"], "data-source": n } },
    });
    last = at + match[0].length;
  }
  if (!out.length) return null;
  if (last < value.length) out.push({ type: "text", value: value.slice(last) });
  return out;
}

/** A remark plugin: markers for sources 1..`sources` (none when the reply cites nothing). */
export function remarkCiteMarkers(options: { sources: number }) {
  return (tree: Root) => {
    if (!options.sources) return;
    const visit = (node: AnyNode) => {
      if (!node.children || node.type === "link" || node.type === "linkReference") return;
      node.children = node.children.flatMap((child) => {
        if (child.type !== "text" || !child.value) {
          visit(child);
          return [child];
        }
        return split(child.value, options.sources) ?? [child];
      });
    };
    visit(tree as unknown as AnyNode);
  };
}
