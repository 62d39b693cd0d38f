// handlebars types its runtime as the ambient module 'handlebars/runtime'; Node's ESM
// resolution needs the file name, 'handlebars/runtime.js' (the package has no exports map).
declare module 'handlebars/runtime.js' {
  import Handlebars from 'handlebars';
  export default Handlebars;
}
