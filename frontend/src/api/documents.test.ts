// @vitest-environment node
// (Node's fetch reads only Node's own FormData and File, which jsdom's environment replaces)
import { fakeClient, jwt } from "../test/fakes";
import { uploadDocuments } from "./documents";

function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

describe("uploadDocuments", () => {
  it("sends the files in the multipart field 'files', and again after a refresh", async () => {
    const fresh = jwt(1800);
    const sent: string[] = [];
    const { client } = fakeClient((_, url, body, authorization) => {
      if (url === "/api/auth/refresh") return [200, { access_token: fresh }];
      sent.push(String(body));
      if (authorization !== `Bearer ${fresh}`) return [401, { error: { code: "unauthorized", message: "token expired" } }];
      return [202, { items: [] }];
    }, memoryStorage());
    client.setTokens({ access_token: jwt(3600), refresh_token: "r" });
    const file = new File(["The lamp is green."], "lighthouse.md", { type: "text/markdown" });
    await expect(uploadDocuments(client, [file])).resolves.toEqual({ items: [] });
    expect(sent).toHaveLength(2);
    for (const body of sent) {
      expect(body).toContain('name="files"; filename="lighthouse.md"');
      expect(body).toContain("The lamp is green.");
    }
  });
});
