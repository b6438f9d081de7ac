// Musicat's service worker: keeps the app, its models and their backbones so the app works offline.
// Network first (a new build is picked up while online), the cache when the network is off.
const CACHE = 'musicat-v1';
const APP = [
  './', './index.html', './start.js', './main.css', './sw.js',
  './musicat.js', './musicat_bg.wasm', './worker_loader.js', './worker.js', './worker_bg.wasm',
  './models/index.json',
];

async function precache() {
  const cache = await caches.open(CACHE);
  await Promise.all(APP.map((url) => cache.add(url).catch(() => undefined)));
  try {
    const index = await (await fetch('./models/index.json')).json();
    const files = index.bundles.flatMap((name) => [`./models/${name}.json`, `./models/${name}.onnx`]);
    await Promise.all(files.map((url) => cache.add(url).catch(() => undefined)));
    // The backbones the bundles are heads on (`"backbone": {"file": …}`, relative to models/), each once.
    const backbones = new Set();
    for (const name of index.bundles) {
      const sidecar = await cache.match(`./models/${name}.json`);
      const file = sidecar && (await sidecar.json().catch(() => ({}))).backbone?.file;
      if (typeof file === 'string') backbones.add(new URL(`./models/${file}`, self.location.href).href);
    }
    const own = new URL('./', self.location.href).href;
    const inside = [...backbones].filter((url) => url.startsWith(own));
    await Promise.all(inside.map((url) => cache.add(url).catch(() => undefined)));
  } catch (_) {
    // No shipped models: nothing more to keep.
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok && response.status === 200) {
        // A full disk (a small storage quota) must not cost the page the file: it is only not kept
        // for offline use. Without this the worker's 18 MB wasm failed to load after a reload.
        await cache.put(request, response.clone()).catch(() => undefined);
      }
      return response;
    } catch (error) {
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) {
        return cached;
      }
      throw error;
    }
  })());
});
