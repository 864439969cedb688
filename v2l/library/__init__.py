"""LoRA libraries: many reference videos in, one LoRA per unique reference and format out, with an index.

`inputs` lists and hashes the references (a folder, a list file or a corpus manifest), `validate` checks and
decodes one with corpus curation's rules, `plan` decides what a build must do against the existing index,
`writer` predicts and writes one reference's files, `index` reads and writes `index.parquet` and
`library.json`, `build` runs a build with any executor (the Ray Data job in `ray_build`, or a
plain loop), `search` finds the entries whose predicted codes are nearest to a new reference.
"""
