import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { FakeSocket, Providers, fakeClient, jwt, type Route as ApiRoute } from "../../test/fakes";
import { ChatPage } from "./ChatPage";

const now = "2026-01-01T00:00:00Z";
const message = (id: number, role: string, content: string, status = "done") => ({
  id,
  session_id: 1,
  role,
  content,
  status,
  error: null,
  prompt_tokens: null,
  completion_tokens: null,
  time_to_first_token_ms: null,
  tokens_per_second: null,
  model_name: null,
  created_at: now,
  completed_at: null,
  citations: [],
});

/** Chat 1 open, for a logged-in user; the requests it made. */
function renderChat(route: ApiRoute) {
  const { client, requests } = fakeClient(route);
  client.setTokens({ access_token: jwt(), refresh_token: "r" });
  render(
    <Providers client={client} path="/c/1">
      <Routes>
        <Route path="/c/:sessionId" element={<ChatPage />} />
      </Routes>
    </Providers>,
  );
  return requests;
}

describe("ChatPage", () => {
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    FakeSocket.all = [];
  });

  it("sends, shows the queued state, streams tokens, and stops with Esc", async () => {
    let stored: ReturnType<typeof message>[] = [];
    const route: ApiRoute = (method, url) => {
      if (url === "/api/auth/me") return [200, { id: 1, username: "ann", role: "user", active: true, email: null, created_at: now }];
      if (url.startsWith("/api/sessions?")) return [200, { items: [{ id: 1, title: "Chat one", created_at: now, updated_at: now }], total: 1, limit: 100, offset: 0 }];
      if (url === "/api/sessions/1/messages" && method === "GET") return [200, { items: stored }];
      if (url === "/api/sessions/1/messages" && method === "POST") {
        stored = [message(10, "user", "hello"), message(11, "assistant", "", "queued")];
        return [202, { user_message_id: 10, assistant_message_id: 11, status: "queued" }];
      }
      if (url === "/api/messages/11/cancel") return [202, { message_id: 11, status: "cancelling" }];
      return undefined;
    };
    const requests = renderChat(route);
    expect(await screen.findByText("No messages yet")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Message"), "hello{Enter}");
    expect(await screen.findByText("Waiting for a worker…")).toBeInTheDocument();
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ content: "hello" });

    const ws = FakeSocket.all[0];
    await act(async () => ws.open());
    expect(ws.sent[0]).toMatchObject({ type: "auth" });
    act(() => ws.deliver({ type: "ready", user_id: 1 }));
    expect(ws.sent[1]).toEqual({ type: "subscribe", message_id: 11 });
    act(() => {
      ws.deliver({ type: "token", id: "1-0", message_id: 11, text: "Hello" });
      ws.deliver({ type: "token", id: "1-1", message_id: 11, text: " **world**" });
      ws.deliver({ type: "token", id: "1-1", message_id: 11, text: " **world**" });
    });
    expect(await screen.findByText("world")).toBeInTheDocument();
    expect(document.querySelector(".reply-text")?.textContent).toBe("Hello world");

    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(requests.some((r) => r.url === "/api/messages/11/cancel")).toBe(true));
    stored = [message(10, "user", "hello"), message(11, "assistant", "Hello **world**", "cancelled")];
    act(() => ws.deliver({ type: "cancelled", id: "1-2", message_id: 11 }));
    expect(await screen.findByText("Stopped.")).toBeInTheDocument();
    expect(await screen.findByRole("button", { name: "Send" })).toBeInTheDocument();
  });

  it("shows a readable error when sending fails", async () => {
    const route: ApiRoute = (method, url) => {
      if (url === "/api/auth/me") return [200, { id: 1, username: "ann", role: "user", active: true, email: null, created_at: now }];
      if (url.startsWith("/api/sessions?")) return [200, { items: [{ id: 1, title: "Chat one", created_at: now, updated_at: now }], total: 1, limit: 100, offset: 0 }];
      if (url === "/api/sessions/1/messages" && method === "GET") return [200, { items: [] }];
      if (url === "/api/sessions/1/messages") {
        return [409, { error: { code: "conflict", message: "a reply is still being generated in this chat; wait or cancel it" } }];
      }
      return undefined;
    };
    renderChat(route);
    await screen.findByText("No messages yet");
    await userEvent.type(screen.getByLabelText("Message"), "again{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("a reply is still being generated in this chat; wait or cancel it");
    expect(screen.getByLabelText("Message")).toHaveValue("again");
  });
});
