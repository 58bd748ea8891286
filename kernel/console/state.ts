// Console-wide state: whether `exit` has run.

let exitCode = -1;

export const requestExit = (code: number) => {
  exitCode = code;
};

export const exitRequested = () => exitCode >= 0;

/** The code `exit` was given (-1 before). */
export const requestedExitCode = () => exitCode;
