/** Bun text imports (`with { type: "text" }`): the file's contents as a string, kept by `bun build --compile`. */
declare module "*.py" {
  const text: string;
  export default text;
}
