// gt-doctor runs this hook (`gt-doctor:checks`) and registers what it returns. Returning the module is
// enough: its default export is a factory that receives the doctor's own API (see checks/stale-tmux-socket.js).
export default async function checks() {
  return [await import('../checks/stale-tmux-socket.js')]
}
