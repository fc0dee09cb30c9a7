/**
 * The ceiling beside which the product is measured: bare Fastify answering the same requests the product
 * answers (the redirect's 302 with its cookie, a conversion's 202 after parsing the same JSON), recording
 * nothing. Run as its own process: `node dist/bench/reference-server.js <port>`.
 */
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';

async function main() {
  const port = Number(process.argv[2] ?? 3900);
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/r/:code', async (_request, reply) => {
    const clickId = randomBytes(48).toString('base64url');
    return reply
      .status(302)
      .header('location', `https://shop.example.com/?aff_click=${clickId}`)
      .header('set-cookie', `aff_click=${clickId}; Max-Age=2592000; Path=/; SameSite=Lax`)
      .header('cache-control', 'no-store')
      .send();
  });
  app.post('/v1/conversions', async (request, reply) => {
    const body = request.body as { orderId?: string };
    return reply.status(202).send({ conversionId: `cv_${body.orderId ?? ''}` });
  });
  app.get('/ready', async () => ({ status: 'ready' }));
  await app.listen({ port, host: '127.0.0.1' });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
