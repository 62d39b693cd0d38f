/**
 * A TCP proxy in front of the shared RabbitMQ, so a test can take "the broker" away from
 * its own connections (cut every socket, refuse new ones, let them in again) without
 * touching anyone else's; optionally a TLS listener (a real amqps:// endpoint, with a
 * client certificate required) whose plain side is the broker's 5672.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

export interface BrokerProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (both directions), as a network failure would. */
  cut(): void;
  /** Refuses new connections (and cuts the open ones) until resume(). */
  down(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface TlsMaterial {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export function makeTlsMaterial(): TlsMaterial {
  if (spawnSync('openssl', ['version']).error) throw new Error('openssl is not installed (apt-get install -y openssl): the TLS test needs it to make certificates');
  const dir = mkdtempSync(join(tmpdir(), 'cg-tls-'));
  const sh = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=celery-gen test CA']);
    for (const [name, cn] of [['server', 'localhost'], ['client', 'celery-gen client']] as const) {
      sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
      writeFileSync(join(dir, `${name}.ext`), name === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
      sh(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
    }
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startBrokerProxy(options: { target?: { host: string; port: number }; tls?: TlsMaterial } = {}): Promise<BrokerProxy> {
  const target = options.target ?? { host: '127.0.0.1', port: 5672 };
  const sockets = new Set<Socket>();
  let accepted = 0;
  const onClient = (client: Socket): void => {
    accepted++;
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const tls = options.tls;
  const make = (): Server =>
    tls
      ? createTlsServer({ key: tls.serverKey, cert: tls.serverCert, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => onClient(s))
      : createServer(onClient);
  let server: Server | undefined = make();
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const port = address.port;
  const cut = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    cut();
    if (s) await new Promise((resolve) => s.close(resolve));
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut,
    down: stop,
    async resume() {
      if (server) return;
      server = make();
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    close: stop,
  };
}
