/**
 * Topological order of a graph's nodes (the main graph or a control-flow body).
 * @module
 */
import type { OnnxNode } from "../onnx/load.ts";
import { LoweringError } from "./ops/mod.ts";

/**
 * Nodes in a topological order (the file's order when it already is one). `available`: the
 * names defined before the nodes (graph inputs, initializers); in a control-flow body every name
 * no body node produces (the body's inputs and the enclosing graphs' names) also is.
 */
export function topoSort(nodes: readonly OnnxNode[], available: Iterable<string>, body = false): OnnxNode[] {
  const ready = new Set<string>([...available, ""]);
  if (body) {
    const produced = new Set(nodes.flatMap((n) => n.outputs));
    for (const n of nodes) for (const x of n.inputs) if (!produced.has(x)) ready.add(x);
  }
  const pending = [...nodes];
  const order: OnnxNode[] = [];
  while (pending.length) {
    const before = pending.length;
    for (let i = 0; i < pending.length;) {
      const n = pending[i];
      if (n.inputs.every((x) => ready.has(x))) {
        order.push(n);
        for (const o of n.outputs) {
          // ONNX defines every name once: a second definition would shadow the first at run time
          if (o !== "" && ready.has(o)) {
            throw new LoweringError(
              `node '${n.name}' (${n.opType}): output '${o}' is already defined (a graph input, an initializer or another node's output); every name is defined once`,
            );
          }
          ready.add(o);
        }
        pending.splice(i, 1);
      } else i++;
    }
    if (pending.length === before) {
      const n = pending[0];
      const missing = n.inputs.find((x) => !ready.has(x));
      throw new LoweringError(
        `node '${n.name}' (${n.opType}): input '${missing}' is never produced (or the graph has a cycle)`,
      );
    }
  }
  return order;
}
