/**
 * MQTT topic layout, v1. One subtree per gateway so a broker ACL can confine a
 * gateway to `vigil/v1/gw/<its id>/#` with a single prefix check.
 */
export const TOPIC_ROOT = 'vigil/v1/gw';

/** Uplink kinds: gateway → relay. */
export type UplinkKind = 'vitals' | 'alarms' | 'status' | 'config-ack';
/** Downlink kinds: relay → gateway. */
export type DownlinkKind = 'config';
export type TopicKind = UplinkKind | DownlinkKind;

export const UPLINK_KINDS: readonly UplinkKind[] = ['vitals', 'alarms', 'status', 'config-ack'];
export const DOWNLINK_KINDS: readonly DownlinkKind[] = ['config'];

/** Gateway ids appear in topics, so they are restricted to topic-safe characters. */
export const GATEWAY_ID_PATTERN = '^[a-z0-9][a-z0-9-]{2,62}$';
const gatewayIdRe = new RegExp(GATEWAY_ID_PATTERN);

export function isGatewayId(id: string): boolean {
  return gatewayIdRe.test(id);
}

export function topicFor(gatewayId: string, kind: TopicKind): string {
  if (!isGatewayId(gatewayId)) throw new Error(`invalid gateway id "${gatewayId}"`);
  return `${TOPIC_ROOT}/${gatewayId}/${kind}`;
}

export interface ParsedTopic {
  gatewayId: string;
  kind: TopicKind;
}

/** Parses a v1 topic; returns null for anything outside the layout. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}/${parts[2]}` !== TOPIC_ROOT) return null;
  const gatewayId = parts[3] as string;
  const kind = parts[4] as TopicKind;
  if (!isGatewayId(gatewayId)) return null;
  if (!(UPLINK_KINDS as readonly string[]).includes(kind) && !(DOWNLINK_KINDS as readonly string[]).includes(kind)) return null;
  return { gatewayId, kind };
}

/** Wildcard the relay subscribes to for every gateway's uplink. */
export const ALL_GATEWAYS_FILTER = `${TOPIC_ROOT}/+/+`;
