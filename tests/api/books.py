"""E-book files generated in Python for the API tests (nothing is downloaded).

make_epub(): a ZIP whose first member is the stored OCF "mimetype", with META-INF/container.xml
and an OPF carrying Dublin Core metadata; `drm="rights"` adds META-INF/rights.xml (Adobe DRM),
`filler` adds incompressible bytes so sizes can be chosen.
make_pdf(): hand-written PDF text with a correct cross-reference table and an Info dictionary;
`encrypted=True` adds an /Encrypt dictionary to the trailer.
"""
import io
import random
import zipfile


def make_epub(title="The Test Book", author="Jane Writer", publisher="Fixture Press",
              date="2019-05-04", language="fr", isbn="9780306406157", subject="Fiction",
              drm=None, filler=0, seed=1):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0"?>\n'
                   '<container version="1.0" '
                   'xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
                   '  <rootfiles><rootfile full-path="OEBPS/content.opf" '
                   'media-type="application/oebps-package+xml"/></rootfiles>\n'
                   '</container>\n', compress_type=zipfile.ZIP_DEFLATED)
        opf = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<package xmlns="http://www.idpf.org/2007/opf" version="2.0" '
               'unique-identifier="id">\n'
               ' <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:opf="http://www.idpf.org/2007/opf">\n'
               f'  <dc:title>{title}</dc:title>\n'
               f'  <dc:creator opf:role="aut">{author}</dc:creator>\n'
               f'  <dc:publisher>{publisher}</dc:publisher>\n'
               f'  <dc:date>{date}</dc:date>\n'
               f'  <dc:language>{language}</dc:language>\n'
               f'  <dc:identifier id="id" opf:scheme="ISBN">{isbn}</dc:identifier>\n'
               f'  <dc:subject>{subject}</dc:subject>\n'
               ' </metadata>\n'
               ' <manifest><item id="c1" href="ch1.xhtml" '
               'media-type="application/xhtml+xml"/></manifest>\n'
               ' <spine><itemref idref="c1"/></spine>\n'
               '</package>\n')
        z.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/ch1.xhtml",
                   '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Once upon a time.'
                   '</p></body></html>', compress_type=zipfile.ZIP_DEFLATED)
        if filler:
            rnd = random.Random(seed)
            z.writestr("OEBPS/images/cover.jpg", rnd.randbytes(filler),
                       compress_type=zipfile.ZIP_STORED)
        if drm == "rights":
            z.writestr("META-INF/rights.xml",
                       '<rights xmlns="http://ns.adobe.com/adept"><licenseToken/></rights>',
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def make_pdf(title="A Test Manual", author="John Engineer", date="20150607", pages=2,
             encrypted=False, filler=0):
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    nobj = 3 + 2 * pages + (1 if encrypted else 0)

    def obj(num, body):
        offsets[num] = len(out)
        out.extend(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{4 + 2 * p} 0 R" for p in range(pages))
    obj(2, f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
    obj(3, f"<< /Title ({title}) /Author ({author}) /Producer (fixture 1.0) "
           f"/CreationDate (D:{date}120000Z) >>".encode())
    for p in range(pages):
        po, co = 4 + 2 * p, 5 + 2 * p
        obj(po, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {co} 0 R >>"
            .encode())
        text = f"BT /F1 12 Tf 72 720 Td (Page {p + 1}) Tj ET\n".encode()
        pad = bytes(33 + (i * 7 + p) % 90 for i in range(filler))
        obj(co, f"<< /Length {len(text) + len(pad)} >>\nstream\n".encode() + text + pad +
            b"\nendstream")
    enc = None
    if encrypted:
        enc = nobj
        obj(enc, b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 "
                 b"/O <0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef> "
                 b"/U <fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210> >>")
    xref = len(out)
    out.extend(f"xref\n0 {nobj + 1}\n0000000000 65535 f \n".encode())
    for i in range(1, nobj + 1):
        out.extend(f"{offsets[i]:010d} 00000 n \n".encode())
    trailer = f"trailer\n<< /Size {nobj + 1} /Root 1 0 R /Info 3 0 R"
    if enc:
        trailer += (f" /Encrypt {enc} 0 R /ID [<00112233445566778899aabbccddeeff>"
                    "<00112233445566778899aabbccddeeff>]")
    out.extend((trailer + f" >>\nstartxref\n{xref}\n%%EOF\n").encode())
    return bytes(out)
