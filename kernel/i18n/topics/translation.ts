// The type of a topic's Japanese or Chinese messages: every key of its English ones.
export type Translation<T> = Record<keyof T, string>;
