#pragma once
// A grid of dataset samples: one row per class, its name on the left, images scaled up with
// nearest-neighbour so single pixels stay visible.

#include <QImage>
#include <QStringList>
#include <QWidget>
#include <vector>

namespace scalelab::ui {

class SampleGrid : public QWidget {
    Q_OBJECT
public:
    explicit SampleGrid(QWidget* parent = nullptr);

    // images[i] belongs to class labels[i]; classNames index = label.
    void setSamples(const std::vector<QImage>& images, const std::vector<int>& labels,
                    const QStringList& classNames);
    void clear();
    int sampleCount() const { return int(images_.size()); }
    int rowCount() const { return classNames_.size(); }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    int columns() const;
    int labelWidth() const;
    std::vector<QImage> images_;
    std::vector<int> labels_;
    QStringList classNames_;
};

}  // namespace scalelab::ui
