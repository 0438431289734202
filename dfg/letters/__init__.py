"""Letters: what each kind must show, the data it is made from, and rendering to accessible PDFs.

- :mod:`dfg.letters.contracts` — the letter kinds (:data:`~dfg.letters.contracts.LETTER_KINDS`), each one's
  recipient, title and required fields, and :func:`~dfg.letters.contracts.check_template`.
- :mod:`dfg.letters.context` — the frozen dataclasses a letter is rendered from, and branding.
- :mod:`dfg.letters.render` — HTML and PDF rendering, batches, merging for the post room.

The templates, stylesheet, fonts, branding and envelope layout live in ``letter_templates/``
(:func:`dfg.paths.letter_templates_dir`). Nothing here imports WeasyPrint until a PDF is rendered.
"""
