// Reference renders of contracts/api-core.md §5.3 with the original's libraries
// (opentype.js 1.3.4 + svg2png-wasm 1.4.1), for the media worker's golden tests.
import fs from 'node:fs'
import opentype from 'opentype.js'
import { initialize, svg2png } from 'svg2png-wasm'

const [fontPath, outDir, wallet, code, date] = process.argv.slice(2)
await initialize(fs.readFileSync('node_modules/svg2png-wasm/svg2png_wasm_bg.wasm'))
const buf = fs.readFileSync(fontPath)
const font = opentype.parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))

function box(text, size) {
  const bb = font.getPath(text, 0, 0, size).getBoundingBox()
  return { bb, d: font.getPath(text, -bb.x1, -bb.y1, size).toPathData(2), w: bb.x2 - bb.x1 }
}

const labels = [`Heaven Dating \u2022 ${wallet}`, `${wallet} \u2022 Heaven Dating`]
let size = 11, fitted = null
for (; size >= 6; size--) {
  const b = labels.map((l) => box(l, size))
  if (Math.max(b[0].w, b[1].w) <= 500) { fitted = b; break }
}
const rows = []
for (let i = 0; i < 7; i++) {
  const y = 35 + i * (430 / 6)
  const b = fitted[i % 2]
  const x = (500 - b.w) / 2
  rows.push(`<g transform="translate(${x},${y})"><path d="${b.d}" fill="none" stroke="#000" stroke-width="3" stroke-opacity="0.2"/><path d="${b.d}" fill="#FFF" fill-opacity="0.45"/></g>`)
}
const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500" viewBox="0 0 500 500">${rows.join('')}</svg>`
fs.writeFileSync(`${outDir}/overlay.png`, await svg2png(overlay, { width: 500, height: 500, backgroundColor: 'transparent' }))

const line = (t, y, s) => font.getPath(t, 12, y, s).toPathData(2)
const stamp = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="78" viewBox="0 0 240 78">
<rect x="0" y="0" width="240" height="78" rx="10" fill="#000" fill-opacity="0.75"/>
<path d="${line('Revealed to:', 18, 10)}" fill="#FFF" fill-opacity="0.7"/>
<path d="${line(wallet, 38, 13)}" fill="#FFF" fill-opacity="0.95"/>
<path d="${line('fp:' + code, 54, 11)}" fill="#FFF" fill-opacity="0.95"/>
<path d="${line(date, 70, 9)}" fill="#FFF" fill-opacity="0.6"/>
</svg>`
fs.writeFileSync(`${outDir}/stamp.png`, await svg2png(stamp, { width: 240, height: 78, backgroundColor: 'transparent' }))
console.log(JSON.stringify({ size, widths: fitted.map((b) => b.w), bb: fitted.map((b) => b.bb) }))
