/** Metacontroller-shaped sync requests for tests (v1: children keyed by name; v2: namespace/name). */
import { parse } from 'yaml'
import { readFileSync } from 'node:fs'
import { childGroupKey, type KubeObject } from '../metacontroller.js'
import { repoPath } from '../paths.js'

/** Loads an example resource from examples/. */
export function loadExample(file: string): KubeObject {
  return parse(readFileSync(repoPath('examples', file), 'utf8')) as KubeObject
}

/** A parent as the apiserver would send it: namespace, uid, generation set. */
export function asStored(resource: KubeObject, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    ...resource,
    metadata: {
      namespace: 'default',
      uid: '5f2a9a55-7c0e-4c1e-9b7e-1d2f0e6b7a10',
      generation: 1,
      creationTimestamp: '2026-11-26T10:00:00Z',
      ...resource.metadata,
      ...extra,
    },
  }
}

/** Builds a sync request with observed children grouped and keyed as Metacontroller does. */
export function syncRequest(
  parent: KubeObject,
  observed: KubeObject[] = [],
  style: 'v1' | 'v2' = 'v2',
  declared: { apiVersion: string; kind: string }[] = [],
): Record<string, unknown> {
  const children: Record<string, Record<string, KubeObject>> = {}
  for (const d of declared) children[childGroupKey(d.apiVersion, d.kind)] ??= {}
  for (const child of observed) {
    const group = (children[childGroupKey(child.apiVersion, child.kind)] ??= {})
    const key = style === 'v1' ? child.metadata.name : `${child.metadata.namespace ?? parent.metadata.namespace}/${child.metadata.name}`
    group[key] = child
  }
  return {
    controller: { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'CompositeController', metadata: { name: 'test' } },
    parent,
    children,
    related: {},
    finalizing: false,
  }
}

/** An observed StatefulSet as the apiserver returns it, with the given status. */
export function observedStatefulSet(desired: KubeObject, status: Record<string, unknown>, generation = 1): KubeObject {
  return {
    ...desired,
    metadata: { ...desired.metadata, uid: 'c0ffee00-0000-4000-8000-000000000001', generation, resourceVersion: '42' },
    status,
  }
}
