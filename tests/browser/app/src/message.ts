export const message: string = "hello from vite";
