#!/bin/bash
# rtdetr trained on a user's COCO folders (data.train_dir, data.val_dir):
#   a tiny run writes its validation folder; training on that folder works and
#   `dynlab eval rtdetr --checkpoint` reproduces the run's AP on it; a folder
#   of PNG and JPEG images of other sizes, with non-contiguous category ids, a
#   box crossing the border and an image without boxes, trains too (validated
#   on a copy listing the categories in the other order), its loss falls, the
#   checkpoint carries its category names and `dynlab detect` labels with them; bad input (a lone knob, a missing
#   folder, a missing or malformed annotations.json, a missing or unreadable
#   image, zero images, a box outside its image, different categories in the
#   two folders, more boxes than queries) gives one error line, a non-zero
#   exit and no checkpoint.
set -u
D=${DYNLAB:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_rtdetr_coco.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
tiny=(--quick --quiet --threads 1 --set data.size=32 --set train.steps=20 --set train.eval_every=10)

# 1. the run's own validation folder (generated, 32 px PNGs)
"$D" run rtdetr --quick --quiet --threads 1 --out "$tmp/r0" --set data.size=32 --set data.n_train=8 \
  --set data.n_val=12 --set train.steps=2 --set train.eval_every=2 >"$tmp/r0.log" 2>&1 || { tail -3 "$tmp/r0.log"; fail "tiny generated run"; }
"$D" run rtdetr "${tiny[@]}" --out "$tmp/r1" --set data.train_dir="$tmp/r0/val" --set data.val_dir="$tmp/r0/val" \
  >"$tmp/r1.log" 2>&1 || { tail -3 "$tmp/r1.log"; fail "training on the run's val folder"; }
"$D" eval rtdetr --data "$tmp/r0/val" --checkpoint "$tmp/r1/checkpoint.safetensors" --json "$tmp/e1.json" \
  >"$tmp/e1.txt" 2>&1 || { cat "$tmp/e1.txt"; fail "eval on the trained checkpoint"; }

# 2. a folder of PNGs of several sizes and one JPEG; category ids 7 and 3
mkdir -p "$tmp/mix/img"
base64 -d >"$tmp/mix/img/photo.jpg" <<'B64'
/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx
NDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy
MjIyMjIyMjL/wAARCAAYACgDASIAAhEBAxEB/8QAGQABAQADAQAAAAAAAAAAAAAAAAECAwQG/8QAHhAAAgIBBQEAAAAAAAAAAAAA
AAECEQMEEhMhMWH/xAAYAQADAQEAAAAAAAAAAAAAAAADBAUGAv/EACMRAAEDAwMFAQAAAAAAAAAAAAECAxEABDESIUEFE1FxgZH/
2gAMAwEAAhEDEQA/APDYcXNNx3VSvw3T0e2Epcl0r8NelyRx5W5ulVHTk1OKWKaU+2ml0yWtSwrbFayyYsV2pU8Rr35j1tNcABlS
LHT+lvX2rtEDTGZ5nwD4rNP3KGY1c1iCv0CTzRZcU2rKSR+UZCgpIUOagAB11Qu74AN2l/cWk9hUTnYHHsUJ1ht2NYmKj7YAF3HF
OLK15Jk/aIlISABxX//Z
B64
/usr/bin/python3 - "$tmp/mix" <<'PY' || fail "writing the PNG folder"
import json, random, struct, sys, zlib
d = sys.argv[1]
def png(path, w, h, px):
    raw = b"".join(b"\0" + bytes(px[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    chunk = lambda t, b: struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                          + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))
rng = random.Random(5)
images = [{"id": 1, "file_name": "img/photo.jpg", "width": 40, "height": 24}]
anns = [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [5, 4, 10, 10], "area": 100, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 3, "bbox": [24, 10, 10, 10], "area": 100, "iscrowd": 0}]
for i, (w, h) in enumerate([(48, 40), (40, 56), (64, 64), (96, 48), (32, 32), (56, 40), (40, 40)]):
    px = bytearray([90, 60, 40] * (w * h))
    boxes = [] if i == 4 else [(rng.choice([7, 3]), rng.randrange(0, w - 8), rng.randrange(0, h - 8), 8, 8) for _ in range(3)]
    if i == 0: boxes.append((7, w - 5, 2, 10, 10))       # crosses the right border: clipped for training
    for c, x, y, bw, bh in boxes:
        for yy in range(y, min(y + bh, h)):
            for xx in range(x, min(x + bw, w)):
                px[(yy * w + xx) * 3:(yy * w + xx) * 3 + 3] = bytes([230, 30, 30] if c == 7 else [30, 60, 230])
        anns.append({"id": len(anns) + 1, "image_id": i + 2, "category_id": c, "bbox": [x, y, bw, bh],
                     "area": bw * bh, "iscrowd": 0})
    png(f"{d}/img/{i:02d}.png", w, h, px)
    images.append({"id": i + 2, "file_name": f"img/{i:02d}.png", "width": w, "height": h})
json.dump({"images": images, "annotations": anns,
           "categories": [{"id": 7, "name": "red_blob"}, {"id": 3, "name": "blue_blob"}]}, open(f"{d}/annotations.json", "w"))
PY
# the same folder with its categories listed in the other order validates (classes are matched by id and name)
cp -r "$tmp/mix" "$tmp/mixrev"
/usr/bin/python3 -c "import json,sys; p=sys.argv[1]; a=json.load(open(p)); a['categories'].reverse(); json.dump(a, open(p,'w'))" \
  "$tmp/mixrev/annotations.json"
"$D" run rtdetr "${tiny[@]}" --out "$tmp/r2" --set data.train_dir="$tmp/mix" --set data.val_dir="$tmp/mixrev" \
  >"$tmp/r2.log" 2>&1 || { tail -3 "$tmp/r2.log"; fail "training on a PNG/JPEG folder"; }
"$D" eval rtdetr --data "$tmp/mixrev" --checkpoint "$tmp/r2/checkpoint.safetensors" --json "$tmp/e2.json" \
  >"$tmp/e2.txt" 2>&1 || { cat "$tmp/e2.txt"; fail "eval on the PNG/JPEG checkpoint"; }
"$D" detect rtdetr --checkpoint "$tmp/r2/checkpoint.safetensors" "$tmp/mix/img/photo.jpg" -o "$tmp/det" \
  --score-thr 0 >"$tmp/det.txt" 2>&1 || { cat "$tmp/det.txt"; fail "detect with the trained checkpoint"; }
[ -s "$tmp/r2/plots/validation_detections.png" ] || fail "no validation grid"
/usr/bin/python3 - "$tmp" <<'PY' || fail "checkpoint, claims or eval of the COCO-folder runs"
import json, struct, sys
t = sys.argv[1]
def classes(f):
    b = open(f, "rb").read(); n = struct.unpack("<Q", b[:8])[0]
    return json.loads(json.loads(b[8:8 + n])["__metadata__"]["rtdetr"])["classes"]
assert classes(f"{t}/r1/checkpoint.safetensors") == ["microaneurysm", "haemorrhage", "hard_exudate", "soft_exudate"]
assert classes(f"{t}/r2/checkpoint.safetensors") == ["red_blob", "blue_blob"], classes(f"{t}/r2/checkpoint.safetensors")
for r, e in (("r1", "e1"), ("r2", "e2")):
    s = json.load(open(f"{t}/{r}/summary.json")); ev = json.load(open(f"{t}/{e}.json"))
    assert abs(s["final"]["rtdetr_ap"] - ev["stats"][0]) < 1e-9 and abs(s["final"]["rtdetr_ap50"] - ev["stats"][1]) < 1e-9, (r, ev)
    st = {c["id"]: c["statement"] for c in s["claims"]}
    for k in ("C1", "C2", "C3"): assert "on the COCO folder" in st[k].replace("On the", "on the"), st[k]
    assert s["final"]["rtdetr_loss_last"] < s["final"]["rtdetr_loss_first"], (r, s["final"])
    assert len(st) == 5
labels = {d["label"] for d in json.load(open(f"{t}/det/detections.json"))}
assert labels and labels <= {"red_blob", "blue_blob"}, labels
PY

# 3. bad input: one error line, non-zero exit, no checkpoint
check_bad() { # expected-status description extra-knobs...
  local want=$1 what=$2; shift 2
  rm -rf "$tmp/bad"
  "$D" run rtdetr "${tiny[@]}" --out "$tmp/bad" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"; local st=$?
  [ "$st" -eq "$want" ] || { cat "$tmp/bad.err"; fail "$what: exit $st, expected $want"; }
  [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] || { cat "$tmp/bad.err"; fail "$what: not one error line"; }
  [ ! -e "$tmp/bad/checkpoint.safetensors" ] || fail "$what: a checkpoint was written"
}
both() { echo --set data.train_dir="$1" --set data.val_dir="$2"; }
newdir() { rm -rf "$tmp/$1"; cp -r "$tmp/mix" "$tmp/$1"; }
edit() { # folder python-expression-on-a
  /usr/bin/python3 -c "import json,sys; p=sys.argv[1]+'/annotations.json'; a=json.load(open(p)); $2; json.dump(a, open(p,'w'))" "$tmp/$1"
}
check_bad 2 "train_dir without val_dir" --set data.train_dir="$tmp/mix"
check_bad 1 "missing folder" $(both "$tmp/nope" "$tmp/mix")
mkdir -p "$tmp/empty"
check_bad 1 "no annotations.json" $(both "$tmp/mix" "$tmp/empty")
newdir trunc; head -c 200 "$tmp/mix/annotations.json" >"$tmp/trunc/annotations.json"
check_bad 1 "truncated annotations.json" $(both "$tmp/trunc" "$tmp/mix")
newdir nobbox; edit nobbox 'del a["annotations"][0]["bbox"]'
check_bad 1 "annotation without bbox" $(both "$tmp/nobbox" "$tmp/mix")
newdir noimg; rm "$tmp/noimg/img/03.png"
check_bad 1 "missing image" $(both "$tmp/mix" "$tmp/noimg")
newdir badimg; echo "not an image" >"$tmp/badimg/img/03.png"
check_bad 1 "unreadable image" $(both "$tmp/badimg" "$tmp/mix")
newdir badsize; edit badsize 'a["images"][2]["width"] = 41'
check_bad 1 "image size differs from annotations.json" $(both "$tmp/badsize" "$tmp/mix")
newdir zero; edit zero 'a["images"] = []; a["annotations"] = []'
check_bad 1 "zero images" $(both "$tmp/zero" "$tmp/mix")
newdir outside; edit outside 'a["annotations"][0]["bbox"] = [50, 2, 5, 5]'
check_bad 1 "box outside its image" $(both "$tmp/outside" "$tmp/mix")
check_bad 1 "different categories" $(both "$tmp/mix" "$tmp/r0/val")
newdir renamed; edit renamed 'a["categories"][0]["name"] = "other"'
check_bad 1 "renamed category" $(both "$tmp/mix" "$tmp/renamed")
check_bad 1 "more boxes than queries" $(both "$tmp/r0/val" "$tmp/r0/val") --set model.queries=2 --set data.max_lesions=2
echo "test_rtdetr_coco: ok"
