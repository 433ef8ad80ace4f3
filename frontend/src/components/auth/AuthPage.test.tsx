import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Providers, fakeClient } from "../../test/fakes";
import { AuthPage } from "./AuthPage";

describe("AuthPage's fields", () => {
  it("says a short password beside the field before asking the server, and the server's refusal beside its field", async () => {
    const { client, requests } = fakeClient((method, url) => {
      if (method === "POST" && url === "/api/auth/register")
        return [422, { error: { code: "invalid_input", message: "the request body is invalid", details: [{ field: "username", message: "String should match pattern '^[\\w.-]+$'" }] } }];
      if (url === "/api/auth/config") return [200, { registration: "open", sso: [] }];
      return undefined;
    });
    render(
      <Providers client={client} path="/register">
        <AuthPage mode="register" />
      </Providers>,
    );
    await userEvent.type(screen.getByLabelText(/Username/), "a b");
    await userEvent.type(screen.getByLabelText(/Password/), "short");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(screen.getByText("At least 8 characters (5 now)")).toBeInTheDocument();
    expect(requests.filter((r) => r.url === "/api/auth/register")).toHaveLength(0);

    await userEvent.type(screen.getByLabelText(/Password/), "-enough");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("String should match pattern '^[\\w.-]+$'")).toBeInTheDocument();
    expect(screen.getByLabelText(/Username/)).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByRole("alert")).toBeNull(); // said beside the field, not as a banner
  });
});
