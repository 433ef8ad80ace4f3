// After `vite build`: a .gz and a .br copy of each text asset (the web process and nginx send
// them to clients that accept them; nothing is compressed per request), and the entry chunk's
// compressed size, printed.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const TEXT = /\.(js|css|html|svg|json|map|txt)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const path of walk(dist).filter((p) => TEXT.test(p))) {
  const raw = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
  writeFileSync(`${path}.br`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
const index = readFileSync(join(dist, "index.html"), "utf8");
const entry = /<script[^>]+src="\/?(assets\/[^"]+\.js)"/.exec(index)?.[1];
if (entry) {
  const raw = readFileSync(join(dist, entry));
  console.log(
    `entry chunk ${entry}: ${kib(raw.length)}, gzip ${kib(gzipSync(raw, { level: 9 }).length)}, ` +
      `brotli ${kib(readFileSync(join(dist, `${entry}.br`)).length)}`,
  );
}
