/**
 * A client of the YARP name server (`yarpserver`, the port `/root`). It speaks the server's
 * plain-text form, as YARP's own tools do: one connection per command, the line
 * `NAME_SERVER <command> <args>\n`, and reply lines up to `*** end of message` (name_server.dox).
 */
import { connect } from "node:net";

export interface NameServerAddress {
  host: string;
  port: number;
}

export interface Registration {
  name: string;
  host: string;
  port: number;
  carrier: string;
}

const END = "*** end of message";
const MAX_REPLY = 1 << 20;

/** Parses `host:port` (the `--yarp-nameserver` flag); throws naming the setting on a bad value. */
export function parseNameServer(text: string, key = "nameserver"): NameServerAddress {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new Error(`bridges.yarp.${key}: expected host:port, got "${text}"`);
  return { host: m[1], port };
}

/** Names of ports may not break the line protocol (spaces, newlines) or be overly long. */
export function checkPortName(name: string): void {
  if (!/^\/[\x21-\x7e]{1,200}$/.test(name)) throw new Error(`bad YARP port name "${name}"`);
}

export class NameClient {
  constructor(
    readonly address: NameServerAddress,
    private readonly timeoutMs = 3_000,
  ) {}

  /** Sends one command; resolves with the reply lines (without the end marker). */
  command(line: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.address.port, this.address.host);
      let text = "";
      const done = (err?: Error) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(text.split(/\r?\n/).filter((l) => l !== "" && l !== END));
      };
      const timer = setTimeout(
        () => done(new Error(`YARP name server did not answer "${line}"`)),
        this.timeoutMs,
      );
      socket.setEncoding("utf8");
      socket.on("connect", () => socket.write(`NAME_SERVER ${line}\n`));
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.length > MAX_REPLY) done(new Error("YARP name server reply too long"));
        else if (text.includes(END)) done();
      });
      socket.on("error", (e) => done(new Error(`YARP name server at ${this.describe()}: ${e.message}`)));
      socket.on("close", () =>
        done(text.includes(END) ? undefined : new Error("YARP name server closed early")),
      );
    });
  }

  describe(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  async register(name: string, host: string, port: number): Promise<Registration> {
    checkPortName(name);
    const lines = await this.command(`register ${name} tcp ${host} ${port}`);
    const reg = parseRegistration(lines);
    if (!reg || reg.port !== port)
      throw new Error(`YARP name server refused to register ${name}: ${lines.join(" ")}`);
    // Carriers our ports speak, so YARP peers never offer one we cannot read.
    await this.command(`set ${name} accepts tcp text text_ack`);
    await this.command(`set ${name} offers tcp text text_ack`);
    return reg;
  }

  async unregister(name: string): Promise<void> {
    checkPortName(name);
    await this.command(`unregister ${name}`);
  }

  /** Where a port is, or undefined when the name server does not know it. */
  async query(name: string): Promise<Registration | undefined> {
    checkPortName(name);
    return parseRegistration(await this.command(`query ${name}`));
  }

  async list(): Promise<Registration[]> {
    const lines = await this.command("list");
    return lines.map((l) => parseRegistration([l])).filter((r): r is Registration => r !== undefined);
  }
}

function parseRegistration(lines: string[]): Registration | undefined {
  for (const line of lines) {
    const m = /^registration name (\S+) ip (\S+) port (\d+) type (\S+)/.exec(line);
    if (m) return { name: m[1], host: m[2], port: Number(m[3]), carrier: m[4] };
  }
  return undefined;
}
