import "@testing-library/jest-dom/vitest";
import { configure } from "@testing-library/react";

// CI machines are small and busy: give async queries time before calling a test failed.
configure({ asyncUtilTimeout: 5000 });
