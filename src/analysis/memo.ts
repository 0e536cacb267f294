/**
 * One result per (snapshot or tree, rules): the analyses are pure and every check asks them again, so each is
 * computed once per pair. Weak on both keys: a snapshot or a rules object that is gone takes its results along.
 */
export class PairCache<A extends object, B extends object, V> {
  private readonly byFirst = new WeakMap<A, WeakMap<B, V>>()

  get(a: A, b: B, compute: () => V): V {
    let bySecond = this.byFirst.get(a)
    if (!bySecond) this.byFirst.set(a, (bySecond = new WeakMap()))
    let value = bySecond.get(b)
    if (value === undefined) bySecond.set(b, (value = compute()))
    return value
  }
}
