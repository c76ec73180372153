import { message } from "./message";

interface Panel {
  title: HTMLElement;
  clicks: number;
}

const panel: Panel = { title: document.getElementById("message")!, clicks: 0 };
panel.title.textContent = message;

function explode(reason: string): never {
  throw new Error(`click failed: ${reason}`);
}

document.getElementById("boom")!.addEventListener("click", () => {
  panel.clicks += 1;
  explode("the button");
});

console.error("boot check failed:", { code: 42 });

if (import.meta.hot) {
  import.meta.hot.accept("./message", (next) => {
    if (next) panel.title.textContent = next.message;
  });
}
