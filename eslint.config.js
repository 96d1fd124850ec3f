// ESLint's own recommended rules over our JavaScript (`make lint`, `make test`).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["frontend/vendor/", "node_modules/", ".venv/", "instance/", "bench/out/"] },
  js.configs.recommended,
  {
    files: ["frontend/js/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["frontend/sw.js"],
    languageOptions: { globals: globals.serviceworker },
  },
  {
    files: ["frontend/tests/**/*.js", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
