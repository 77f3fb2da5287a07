/**
 * Topic ACL: a gateway publishes only its own uplink topics and subscribes
 * only to its own config topic. The v1 layout puts each gateway in its own
 * subtree (protocol/topics.ts), so this is an exact match, never a pattern.
 */
import { parseTopic, topicFor, UPLINK_KINDS, type UplinkKind } from '../../protocol/topics.ts';

export function uplinkKindFor(gatewayId: string, topic: string): UplinkKind | null {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.gatewayId !== gatewayId) return null;
  return (UPLINK_KINDS as readonly string[]).includes(parsed.kind) ? (parsed.kind as UplinkKind) : null;
}

/** Wildcards are refused outright: `vigil/v1/gw/+/config` would match other gateways. */
export function maySubscribe(gatewayId: string, topicFilter: string): boolean {
  return topicFilter === topicFor(gatewayId, 'config');
}
