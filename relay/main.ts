import { createServer } from "node:http";

// Placeholder entry point until the relay agent lands: it answers /healthz so the
// image can be started and health-checked like the real one.
const port = Number(process.env.DHCPLAB_HTTP_PORT ?? 9100);
const server = createServer((req, res) => {
  res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
  res.end(req.url === "/healthz" ? "ok\n" : "not found\n");
});
server.listen(port);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
