import { CssBaseline, GlobalStyles, ThemeProvider, createTheme, useMediaQuery } from "@mui/material";
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";

type Mode = "light" | "dark";
const MODE_KEY = "qc.colorMode";

const ColorModeContext = createContext<{ mode: Mode; toggle: () => void }>({
  mode: "light",
  toggle: () => undefined,
});

export const useColorMode = () => useContext(ColorModeContext);

const highlight = (mode: Mode) => {
  const dark = mode === "dark";
  return {
    ".hljs-keyword, .hljs-selector-tag, .hljs-built_in, .hljs-name": { color: dark ? "#ff7b72" : "#cf222e" },
    ".hljs-string, .hljs-attr, .hljs-regexp": { color: dark ? "#a5d6ff" : "#0a3069" },
    ".hljs-number, .hljs-literal, .hljs-type": { color: dark ? "#79c0ff" : "#0550ae" },
    ".hljs-comment, .hljs-quote": { color: dark ? "#8b949e" : "#6e7781", fontStyle: "italic" },
    ".hljs-title, .hljs-function .hljs-title, .hljs-title.function_": { color: dark ? "#d2a8ff" : "#8250df" },
    ".hljs-variable, .hljs-params": { color: dark ? "#ffa657" : "#953800" },
  };
};

// Keyboard focus always shows: a 3 px ring in the primary colour (5.6:1 on white, 9:1 on the dark
// background: WCAG 2.2's 3:1 for focus indicators), on every focusable thing, MUI's included.
const focusRing = (mode: Mode) => ({
  ":focus-visible, .Mui-focusVisible": {
    outline: `3px solid ${mode === "dark" ? "#8ab4f8" : "#1a5fd0"} !important`,
    outlineOffset: "2px",
  },
  ".MuiInputBase-root.Mui-focused": { outline: `2px solid ${mode === "dark" ? "#8ab4f8" : "#1a5fd0"}`, outlineOffset: "1px" },
});

export function AppThemeProvider({ children }: { children: ReactNode }) {
  const prefersDark = useMediaQuery("(prefers-color-scheme: dark)");
  const [chosen, setChosen] = useState<Mode | null>(() => localStorage.getItem(MODE_KEY) as Mode | null);
  const mode: Mode = chosen ?? (prefersDark ? "dark" : "light");
  const theme = useMemo(
    () =>
      createTheme({
        palette: {
          mode,
          primary: { main: mode === "dark" ? "#8ab4f8" : "#1a5fd0" },
          background: mode === "dark" ? { default: "#121417", paper: "#1b1e23" } : { default: "#f6f7f9", paper: "#ffffff" },
        },
        shape: { borderRadius: 10 },
        components: {
          // a disabled button still reads (WCAG 2.2 AA asks nothing of disabled controls; people do)
          MuiButton: {
            styleOverrides: {
              root: {
                "&.Mui-disabled": { color: mode === "dark" ? "#a0a6ad" : "#5b6169" },
                "&.MuiButton-contained.Mui-disabled": { backgroundColor: mode === "dark" ? "#2b2f36" : "#e4e6ea" },
              },
            },
          },
        },
        typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif' },
      }),
    [mode],
  );
  const value = useMemo(
    () => ({
      mode,
      toggle: () => {
        const next: Mode = mode === "dark" ? "light" : "dark";
        localStorage.setItem(MODE_KEY, next);
        setChosen(next);
      },
    }),
    [mode],
  );
  return (
    <ColorModeContext.Provider value={value}>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        <GlobalStyles styles={{ "html, body, #root": { height: "100%" }, ...focusRing(mode), ...highlight(mode) }} />
        {children}
      </ThemeProvider>
    </ColorModeContext.Provider>
  );
}
