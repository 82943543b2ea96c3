import { defineConfig } from "vitest/config";

// Pure modules run in node; DOM tests opt into jsdom with a `@vitest-environment` comment.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.js"],
    environment: "node",
  },
});
