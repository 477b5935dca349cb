"""Extracts every ```cpp block of docs/*.md into a compilable source file, so the docs' code cannot rot.

    python3 extract_snippets.py DOCS_DIR CONTEXTS_DIR OUT_DIR

Each ```cpp block must be preceded (on the line before the fence) by a marker comment that says what it is:

    <!-- snippet: program ARGS -->   a whole program: compiled, run with ARGS (paths relative to the repository)
    <!-- snippet: context NAME [KEY=VALUE...] -->
                                     a fragment: pasted into CONTEXTS_DIR/NAME.cpp at its `// @snippet` line
                                     (its #include lines, and `#define KEY VALUE` for each KEY=VALUE, go to
                                     the top of the file); compiled and run
    <!-- snippet: sketch -->         pseudo-code (e.g. with `...`): not compiled; the marker says so

A block without a marker is an error naming the file and line. Writes OUT_DIR/<doc>_<n>.cpp and
OUT_DIR/snippets.cmake: one `pnpdist_doc_snippet(NAME SOURCE ARGS...)` call per compiled block.
"""
import os
import re
import sys

MARKER = re.compile(r'^<!--\s*snippet:\s*(program|context|sketch)\b\s*(.*?)\s*-->\s*$')


def blocks(path):
    """(line number, marker kind, marker argument, code) of each ```cpp block of the Markdown file."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == '```cpp':
            start = i + 1
            marker = MARKER.match(lines[i - 1].strip()) if i > 0 else None
            if marker is None:
                raise SystemExit(f'{path}:{i + 1}: a ```cpp block needs a marker on the line before it: '
                                 '<!-- snippet: program ARGS | context NAME | sketch --> (tests/docs/)')
            end = start
            while end < len(lines) and lines[end].strip() != '```':
                end += 1
            if end == len(lines):
                raise SystemExit(f'{path}:{i + 1}: the ```cpp block is not closed')
            found.append((start, marker.group(1), marker.group(2), '\n'.join(lines[start:end])))
            i = end
        i += 1
    return found


def main():
    docs, contexts, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    calls = []
    for name in sorted(os.listdir(docs)):
        if not name.endswith('.md'):
            continue
        path = os.path.join(docs, name)
        for n, (line, kind, argument, code) in enumerate(blocks(path), start=1):
            if kind == 'sketch':
                continue
            test = f'{name[:-3]}_{n}'
            source = os.path.join(out, test + '.cpp')
            if kind == 'program':
                text = f'#line {line + 1} "{path}"\n{code}\n'
                args = argument.split()
            else:
                context_name, *defines = argument.split()
                context_path = os.path.join(contexts, context_name + '.cpp')
                if not os.path.exists(context_path):
                    raise SystemExit(f'{path}:{line}: no snippet context {context_path}')
                includes = [l for l in code.split('\n') if l.startswith('#include')]
                body = [l for l in code.split('\n') if not l.startswith('#include')]
                with open(context_path, encoding='utf-8') as f:
                    context = f.read()
                if '// @snippet' not in context:
                    raise SystemExit(f'{context_path}: no `// @snippet` line')
                before, after = context.split('// @snippet', 1)
                resume = before.count('\n') + 2  # the context's line after the `// @snippet` line
                text = (''.join(f'#define {d.replace("=", " ", 1)}\n' for d in defines) +
                        '\n'.join(includes) + f'\n#line 1 "{context_path}"\n' + before +
                        f'\n#line {line + 1} "{path}"\n' + '\n'.join(body) +
                        f'\n#line {resume} "{context_path}"\n' + after.split('\n', 1)[-1])
                args = []
            old = open(source, encoding='utf-8').read() if os.path.exists(source) else None
            if old != text:  # unchanged sources keep their time stamps (no rebuild)
                with open(source, 'w', encoding='utf-8') as f:
                    f.write(text)
            calls.append(f'pnpdist_doc_snippet(docs_{test} {source} {" ".join(args)})')
    with open(os.path.join(out, 'snippets.cmake'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(calls) + '\n')


if __name__ == '__main__':
    main()
