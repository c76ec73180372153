// The smoke check (`brummer smoke` runs it once everything is up): the page and the API answer, at the URLs brummer
// found in their logs (BRUMMER_URL_WEB, BRUMMER_URL_API). Run by hand, it uses WEB_URL and API_URL instead.
const web = process.env.BRUMMER_URL_WEB || process.env.WEB_URL || "http://127.0.0.1:5173/";
const api = process.env.BRUMMER_URL_API || process.env.API_URL || "http://127.0.0.1:3001/";

async function expect(url, text) {
  const res = await fetch(url);
  const body = await res.text();
  if (!res.ok || !body.includes(text)) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
  console.log(`ok ${url} (${res.status})`);
}

expect(web, "Hello from the brummer example")
  .then(() => expect(new URL("/api/items", api).href, '"brummer"'))
  .catch((err) => {
    console.error(`check failed: ${err.message}`);
    process.exit(1);
  });
