#pragma once
// The ScaleLab main window: the dataset picker on the left, the lab's tabs on the right.

#include <QMainWindow>

class QSplitter;
class QTabWidget;

namespace scalelab::ui {

class DatasetPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    DatasetPanel* datasetPanel() const { return datasetPanel_; }
    QTabWidget* tabs() const { return tabs_; }

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    QWidget* placeholderTab(const QString& text);

    DatasetPanel* datasetPanel_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QSplitter* splitter_ = nullptr;
};

}  // namespace scalelab::ui
