#!/bin/sh
# make-binary.sh — writes the test-corpus files of tests/data/ whose exact bytes
# matter and that an editor or git could silently change: a UTF-8 BOM, CRLF
# line endings, bytes that are not UTF-8, NUL bytes, a zero-byte file, a file
# without a final newline, blank lines, spaces at line ends.  The files are
# committed too; run this script (from any directory) to recreate them after
# an editor or a checkout has touched them.  Their NAME.expected.json files
# were written by hand from DESIGN.md and docs/types.md and are not touched.
set -eu
cd "$(dirname "$0")"

# bom.csv: UTF-8 BOM before the header; the first column name must be "id".
printf '\357\273\277id,name\n1,Zo\303\253\n2,Ann\n' > bom.csv

# crlf.csv: every record ends with CR LF.
printf 'id,name,score\r\n1,Ann,9.5\r\n2,Bob,7.25\r\n3,Cy,10\r\n' > crlf.csv

# invalid_utf8.csv: latin-1 bytes 0xE9 (line 3) and 0xFC (line 5).
printf 'id,city,country\n1,Oslo,Norway\n2,Montr\351al,Canada\n3,Los Angeles,USA\n4,Z\374rich,Switzerland\n' > invalid_utf8.csv

# nul_byte.csv: NUL bytes on line 3 and line 4.
printf 'id,qty,note\n1,10,first\n2,2\000,second\n3,30,third\000x\n4,40,the fourth note\n' > nul_byte.csv

# crlf_nul_utf8.csv: CRLF records, a NUL on line 3 and latin-1 0xFC on line 4
# (after '\r' bytes: the slice's one byte-check pass finds all three), and a
# quoted CRLF in the last record (lines 5-6).
printf 'id,name,note\r\n1,Ann,ok\r\n2,B\000b,nul\r\n3,Z\374rich,latin\r\n4,Dee,"two\r\nlines"\r\n' > crlf_nul_utf8.csv

# empty.csv: zero bytes.
: > empty.csv

# no_final_newline.csv: the last record has no line end.
printf 'id,name\n1,Ann\n2,Bob' > no_final_newline.csv

# trailing_blank.csv: two blank lines after the last record (not records, not errors).
printf 'id,name\n1,Ann\n2,Bob\n\n\n' > trailing_blank.csv

# blank_middle.csv: a blank line (line 4) between records: a blank_line error.
printf 'id,name\n1,Ann\n2,Bob\n\n3,Cy\n4,Dee\n' > blank_middle.csv

# trim.csv: spaces around values (unquoted and inside quotes), some at line ends.
printf 'id,qty,day,flag,price\n1, 42 ,2024-01-02 ,true ," 1.5 "\n2,7 , 2024-01-03,  false,2.25\n3,  3,2024-01-04, yes,"  10.0"\n' > trim.csv
