import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // The app uses top-level await (it starts the sync client before rendering).
  build: { target: 'es2022' },
});
