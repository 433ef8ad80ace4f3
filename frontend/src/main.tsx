import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { ApiClient } from "./api/client";
import { ApiProvider } from "./api/context";
import { AuthProvider } from "./auth";
import { AppThemeProvider } from "./theme";

const client = new ApiClient();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <AppThemeProvider>
      <ApiProvider client={client}>
        <AuthProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </AuthProvider>
      </ApiProvider>
    </AppThemeProvider>
  </StrictMode>,
);
