// Console-wide state: whether `exit` has run.

let exitCode = -1;

export const requestExit = (code: number) => {
  exitCode = code;
};

export const exitRequested = () => exitCode >= 0;
