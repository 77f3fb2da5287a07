/** Raw MQTT over a real socket: write exact bytes, read parsed packets. */
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export class RawMqttClient {
  readonly packets: Packet[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.notify();
    });
    parser.on('error', () => {});
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static connect(url: string): Promise<RawMqttClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(new RawMqttClient(socket)));
      socket.once('error', reject);
    });
  }

  write(...packets: Packet[]): Promise<void> {
    const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
    return this.writeBytes(bytes);
  }

  writeBytes(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Resolves once the socket is closed by the other side, or rejects after `timeoutMs`. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.closed, timeoutMs, 'socket close');
  }

  /** Waits for a packet matching `match`; rejects if the socket closes first or on timeout. */
  async waitPacket<P extends Packet>(match: (p: Packet) => p is P, timeoutMs = 5000): Promise<P> {
    await this.waitFor(() => this.packets.some(match) || this.closed, timeoutMs, 'packet');
    const found = this.packets.find(match);
    if (!found) throw new Error(`socket closed before the expected packet; got ${this.packets.map((p) => p.cmd).join(', ') || 'nothing'}`);
    return found;
  }

  close(): void {
    this.socket.destroy();
  }

  private waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export const isConnack = (p: Packet): p is mqttPacket.IConnackPacket => p.cmd === 'connack';
export const isPuback = (p: Packet): p is mqttPacket.IPubackPacket => p.cmd === 'puback';
export const isSuback = (p: Packet): p is mqttPacket.ISubackPacket => p.cmd === 'suback';
export const isPublish = (p: Packet): p is mqttPacket.IPublishPacket => p.cmd === 'publish';

export function connectPacket(
  clientId: string,
  password: string | undefined,
  username: string | undefined = clientId,
): mqttPacket.IConnectPacket {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 30,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password: Buffer.from(password) } : {}),
  };
}
