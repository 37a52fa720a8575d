import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore', timeout: 30_000 });
}

/**
 * A throw-away CA and the server (destination) and client (source) certificates QEMU's
 * tls-creds-x509 object reads from one directory: ca-cert.pem, server-cert.pem,
 * server-key.pem, client-cert.pem, client-key.pem. The server certificate names
 * 127.0.0.1 (the migration URI's host), which QEMU's client checks.
 */
export function makeQemuTlsDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca-cert.pem', '-days', '2', '-subj', '/CN=migscope test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  for (const [who, ext] of [['server', 'serverAuth'], ['client', 'clientAuth']] as const) {
    writeFileSync(join(dir, `${who}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${ext}\nsubjectAltName=IP:127.0.0.1\n`);
    openssl(['req', ...ec, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`, '-subj', '/CN=127.0.0.1'], dir);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', `${who}-cert.pem`, '-days', '2', '-extfile', `${who}.ext`], dir);
  }
  return dir;
}
