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

/** Chat 1 open (or ``path``), for a logged-in user; the requests it made. */
function renderChat(route: ApiRoute, path = "/c/1") {
  const { client, requests } = fakeClient(route);
  client.setTokens({ access_token: jwt(), refresh_token: "r" });
  render(
    <Providers client={client} path={path}>
      <Routes>
        <Route path="/" element={<ChatPage />} />
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

    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await userEvent.click(screen.getByRole("button", { name: "Copy question" }));
    await userEvent.click(screen.getByRole("button", { name: "Copy reply" }));
    expect(writeText.mock.calls).toEqual([["hello"], ["Hello **world**"]]);
  });

  it("shows Send the moment the stream ends, before the messages reload, and takes the next Enter", async () => {
    let posts = 0;
    const route: ApiRoute = (method, url) => {
      if (url === "/api/auth/me") return [200, { id: 1, username: "ann", role: "user", active: true, email: null, created_at: now }];
      if (url.startsWith("/api/sessions?")) return [200, { items: [{ id: 1, title: "Chat one", created_at: now, updated_at: now }], total: 1, limit: 100, offset: 0 }];
      // the stored rows lag behind the stream: the reply still reads as generating
      if (url === "/api/sessions/1/messages" && method === "GET")
        return [200, { items: posts ? [message(10, "user", "hi"), message(11, "assistant", "", "generating")] : [] }];
      if (url === "/api/sessions/1/messages" && method === "POST") {
        posts += 1;
        return [202, { user_message_id: 8 + 2 * posts, assistant_message_id: 9 + 2 * posts, status: "queued" }];
      }
      return undefined;
    };
    const requests = renderChat(route);
    expect(await screen.findByText("No messages yet")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Message"), "hi{Enter}");
    expect(await screen.findByRole("button", { name: "Stop" })).toBeInTheDocument();
    const ws = FakeSocket.all[0];
    await act(async () => ws.open());
    act(() => ws.deliver({ type: "ready", user_id: 1 }));
    act(() => {
      ws.deliver({ type: "token", id: "1-0", message_id: 11, text: "Hello" });
      ws.deliver({ type: "done", id: "1-1", message_id: 11, status: "done" });
    });
    expect(await screen.findByRole("button", { name: "Send" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Message"), "again{Enter}");
    await waitFor(() => expect(requests.filter((r) => r.method === "POST")).toHaveLength(2));
    expect(requests.filter((r) => r.method === "POST")[1].body).toEqual({ content: "again" });
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

  /** Chat 1, empty; each POST of a message is answered by ``answer`` (given the POST's number). */
  function emptyChat(answer: (post: number) => ReturnType<ApiRoute>) {
    const sent = { posts: 0 };
    const route: ApiRoute = (method, url) => {
      if (url === "/api/auth/me") return [200, { id: 1, username: "ann", role: "user", active: true, email: null, created_at: now }];
      if (url.startsWith("/api/sessions?")) return [200, { items: [{ id: 1, title: "Chat one", created_at: now, updated_at: now }], total: 1, limit: 100, offset: 0 }];
      if (url === "/api/sessions/1/messages" && method === "GET") return [200, { items: [] }];
      if (url === "/api/sessions/1/messages" && method === "POST") return answer(++sent.posts);
      return undefined;
    };
    renderChat(route);
    return sent;
  }
  const tooMany = (message: string): ReturnType<ApiRoute> => [
    429,
    { error: { code: "too_many_requests", message } },
    { "Retry-After": "1" },
  ];

  it("counts down a 429's Retry-After and sends the message again by itself", async () => {
    const sent = emptyChat((post) =>
      post === 1 ? tooMany("you have 5 replies open") : [202, { user_message_id: 10, assistant_message_id: 11, status: "queued" }],
    );
    await screen.findByText("No messages yet");
    await userEvent.type(screen.getByLabelText("Message"), "wait for me{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("you have 5 replies open");
    expect(await screen.findByTestId("retry-countdown")).toHaveTextContent(/Sending again in [01] s/);
    expect(screen.getByLabelText("Message")).toHaveValue("wait for me"); // kept while it waits
    await waitFor(() => expect(sent.posts).toBe(2), { timeout: 5000 });
    await waitFor(() => expect(screen.queryByTestId("retry-countdown")).toBeNull(), { timeout: 5000 });
    await waitFor(() => expect(screen.getByLabelText("Message")).toHaveValue(""), { timeout: 5000 });
  });

  it("cancels a countdown when asked", async () => {
    const sent = emptyChat(() => tooMany("slow down"));
    await screen.findByText("No messages yet");
    await userEvent.type(screen.getByLabelText("Message"), "hi{Enter}");
    await screen.findByTestId("retry-countdown");
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("retry-countdown")).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sent.posts).toBe(1);
  });

  it("makes a chat only when its first message is accepted, with the settings chosen before", async () => {
    const chat = { id: 7, title: "Where is the handbook?", created_at: now, updated_at: now, pinned_at: null, use_knowledge_base: true, template_id: null, model: "large" };
    let refuse = true;
    const route: ApiRoute = (method, url) => {
      if (url === "/api/auth/me") return [200, { id: 1, username: "ann", role: "user", active: true, email: null, created_at: now }];
      if (url.startsWith("/api/sessions?")) return [200, { items: [], total: 0, limit: 100, offset: 0 }];
      if (url === "/api/models") return [200, { items: ["small", "large"], default: "small" }];
      if (url === "/api/sessions" && method === "POST") return [201, chat];
      if (url === "/api/sessions/7" && method === "DELETE") return [204, null];
      if (url === "/api/sessions/7" && method === "GET") return [200, chat];
      if (url === "/api/sessions/7/messages" && method === "GET") return [200, { items: [] }];
      if (url === "/api/sessions/7/messages" && method === "POST") {
        if (refuse) return [422, { error: { code: "content_blocked", message: "the policy blocks this" } }];
        return [202, { user_message_id: 10, assistant_message_id: 11, status: "queued" }];
      }
      return undefined;
    };
    const requests = renderChat(route, "/");
    expect(await screen.findByText("Start a new chat")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("switch", { name: "Knowledge base" }));
    expect(screen.getByRole("switch", { name: "Knowledge base" })).toBeChecked();
    await userEvent.click(await screen.findByRole("combobox", { name: "Model" })); // two models served
    expect(screen.getByRole("option", { name: "Default (small)" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("option", { name: "large" }));
    await userEvent.click(screen.getByRole("button", { name: "New chat" }));
    expect(requests.filter((r) => r.method !== "GET")).toEqual([]); // nothing made yet
    expect(screen.getByRole("switch", { name: "Knowledge base" })).toBeChecked(); // still chosen
    await userEvent.type(screen.getByLabelText("Message"), "Where is the handbook?{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("the policy blocks this");
    const made = requests.filter((r) => r.method !== "GET").map((r) => [r.method, r.url, r.body]);
    expect(made).toEqual([
      ["POST", "/api/sessions", { title: "Where is the handbook?", use_knowledge_base: true, template_id: null, model: "large" }],
      ["POST", "/api/sessions/7/messages", { content: "Where is the handbook?" }],
      ["DELETE", "/api/sessions/7", undefined], // refused: no empty chat is left
    ]);

    refuse = false;
    await userEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(requests.filter((r) => r.method === "POST")).toHaveLength(4));
    expect(requests.filter((r) => r.method !== "GET").slice(3).map((r) => r.url)).toEqual(["/api/sessions", "/api/sessions/7/messages"]);
  });
});
