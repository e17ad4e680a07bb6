import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A PEM key and certificate; the certificate is also the CA that clients should trust. */
export interface SelfSignedCert {
  key: string;
  cert: string;
}

/**
 * A throwaway certificate for 127.0.0.1 (CN and IP subject alternative name), valid one
 * day, made with the `openssl` CLI in a temporary folder that is removed afterwards.
 * Clients trust it by passing `cert` as their CA, never by turning verification off.
 */
export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "tocsin-cert-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    const [key, cert] = await Promise.all([readFile(keyFile, "utf8"), readFile(certFile, "utf8")]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
