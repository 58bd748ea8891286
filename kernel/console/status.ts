// What running a command line came to.
export const enum Status {
  Ok = 0,
  Failed = 1,
}
