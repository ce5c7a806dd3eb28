"""The union's books and reports: figures for a period, the 台账 workbook, charts and the
工作总结 draft. Figures are read with aggregate queries; the files are built from them."""
