/** `1 process`, `2 processes`: a count with its word, singular for exactly one. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`
}
